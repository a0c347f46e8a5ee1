"""Analyses on top of training: comparing variants, one step laid open (explain), and the
measurements behind the preset lessons."""
