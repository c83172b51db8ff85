"""The Streamlit app: pages over the lake and the run folders. It reads; it writes only runs and syncs.

Start it with `barlake app`; streamlit is imported only inside this package.
"""
