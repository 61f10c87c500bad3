"""Tools that write the networks' data files (run by hand, output committed)."""
