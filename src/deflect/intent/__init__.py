"""The intent model serving loads: encoder → features → linear head → temperature → out-of-scope score and thresholds
(`IntentModel.from_pretrained`, `predict`)."""
