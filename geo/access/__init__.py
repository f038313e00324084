"""Access control: keys, users, scopes, audit — who may see which grid and what was seen."""
