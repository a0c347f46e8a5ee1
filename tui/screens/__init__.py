"""Screens: the main view, and the modal dialogs pushed over it."""
