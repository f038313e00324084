"""`gridmap` sub-commands that live in their own modules, each with an `add_parser`."""
