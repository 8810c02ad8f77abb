"""The book's editions, built from one source: the student edition and the Chinese edition.

``tools/build_edition.py`` is the command line; the modules here do one job each:
``segments`` splits a page's markdown into translatable units and puts it back together,
``catalogue`` reads the book's pages and writes and reads gettext catalogues,
``translate`` writes the translated copy of the book, ``zh`` and ``student`` build the editions.
"""
