"""Concrete reward components, referenced from ``conf/rubric/*.yaml``."""
