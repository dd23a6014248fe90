"""Figures: a chart model as data, its renderers, and the figures of each command.

The chart model (``_chart``) is drawn by Pillow for PNG (``_png``) and by
matplotlib for SVG and PDF (``_mpl``); ``_quantize``, ``_sweep`` and
``_listening`` build the figures of those commands. The only subpackage that
imports matplotlib. Its modules are used by the run and the command line, not
by library callers, so it names no public objects.
"""
