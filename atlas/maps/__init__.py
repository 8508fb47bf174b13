"""Folium map building: one place for everything that turns frames into Leaflet HTML/JS."""
