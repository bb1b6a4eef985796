"""trilink: the US-Japan-ROK security cooperation system as software.

Internal conventions: SI units, UTC times, ECEF (WGS84) as the internal frame,
angles in radians inside the library and degrees only at the edges (files, CLI,
reports).
"""

__version__ = "0.1.0"
