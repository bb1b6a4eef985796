"""Cursor-on-Target out: a node's releasable picture to a TAK server.

:mod:`trilink.cot.encode` turns picture events into CoT events (sans-I/O, one audience
nation at a time: nothing not released to it is ever encoded); :mod:`trilink.cot.sender`
carries them to a TAK server over TCP, reading the node's picture stream.
"""
