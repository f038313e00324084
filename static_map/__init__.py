"""folium page builders and the static assets they use; never touches the database."""
