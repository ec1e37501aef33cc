"""Where a model comes from: `deflect train` reads labelled utterances, fits an intent model and saves it as a
versioned artifact folder with a model card."""
