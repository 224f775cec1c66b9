"""How reports are presented: locations (locations), text (text), JSON with a published schema
(structured) and SARIF 2.1.0 (sarif). The prove/ and synth/ stages produce the facts; nothing
here decides anything."""
