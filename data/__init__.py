"""Records and loaders: utterances, help-center articles, label maps and the bundled demo data."""
