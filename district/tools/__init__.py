"""Scripts that generate the district's data files (run by hand, output committed)."""
