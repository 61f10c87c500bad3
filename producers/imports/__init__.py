"""Batch import of the networks' nightly export files (``gridflow import``): files read line by line, sent as pushes."""
