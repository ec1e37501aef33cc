"""`deflect discover`: intents proposed from past conversations, with no labels: the customers' opening messages
(and those before a handoff) clustered, each cluster described and matched to the help center."""
