"""Browser tests of the served workbench (marked ``browser``)."""
