"""Personal data of petitioners: validation, encryption at rest, keyed hashes and masking."""
