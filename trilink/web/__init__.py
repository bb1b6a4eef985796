"""The faces of a live node: the dashboard (map, warnings, hotline) and its REST/SSE API.

- :mod:`trilink.web.publish` — the node's picture as versioned events (contract C3);
- :mod:`trilink.web.view` — the sans-I/O view a dashboard keeps of one node's picture;
- :mod:`trilink.web.feed` — JetStream ``PICTURE_<NATION>`` → view (the thin adapter);
- :mod:`trilink.web.server` — the FastAPI app, ``trilink serve``, ``serve_in_background``;
- :mod:`trilink.web.auth` — users' tokens; :mod:`trilink.web.geodata` — map layers;
- :mod:`trilink.web.replay` — a simulated replay as picture streams (tests, demos).
"""
