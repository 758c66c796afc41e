"""Procedural artworks and scraped-looking copies of them, for the offline demo.

Everything here is drawn from a seed with Pillow and NumPy: no downloads, no fonts
beyond Pillow's bundled one, the same pixels on every run.

* :func:`character` draws a 900x1200 anime-style character sprite on a transparent
  background (RGBA): hair locks, big eyes with highlights, a patterned outfit, a staff
  with runes, gradient fills with a painted-noise texture and dark line art.
* :func:`scene` draws a 1280x720 opaque background painting: a gradient sky with clouds,
  layered mountain ridges, a town, shrine or harbour with signs in made-up glyphs,
  trees, power lines and a textured foreground.
* :func:`unrelated_photo` and :func:`unrelated_chart` draw things that are not art at all.
* The transforms (:func:`crop`, :func:`mirror`, :func:`rotate`, ...) turn a work into what
  a scraped training corpus holds: crops, captions, composites, collage tiles,
  screenshots, recompressed and resized copies.

Art made from different seeds shares the style (the same generator) but not the
drawing, like two works of one studio: the demo's hard negatives.
"""

from kyodaku_demo.characters import *  # noqa: F403
from kyodaku_demo.paint import *  # noqa: F403
from kyodaku_demo.scenes import *  # noqa: F403
from kyodaku_demo.transforms import *  # noqa: F403
