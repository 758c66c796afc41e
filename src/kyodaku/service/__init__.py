"""The web service (``kyodaku serve``): the desk's API and pages; see :mod:`kyodaku.service.app`."""
