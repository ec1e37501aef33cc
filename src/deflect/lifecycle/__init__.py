"""Which model + index version serves: the promotion registry, hot activation of another version, and shadow scoring of
a candidate beside the active one."""
