"""Reading what users bring: help-center exports (Markdown, HTML, Zendesk, CSV), labelled utterances, label maps and
reviewed-label exports, with errors that name the file and line."""
