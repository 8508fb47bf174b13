"""Streamlit views of the atlas: one module per tab, each exposing ``render(region, atlas)``."""
