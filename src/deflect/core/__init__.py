"""The bottom layer, imported by every other: records, text normalisation, errors, the shared vocabulary (decisions,
reason codes, feedback kinds), artifact manifests, atomic writes, the encoder interface and the one settings object."""
