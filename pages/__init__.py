"""The app's pages, one file each: `render()` draws the page. app.py registers them from ui.navigation's
registry; Streamlit never lists this file as a page of its old `pages/` multipage mode."""
