"""The REST API, one router per role (see :mod:`kyodaku.service.app`)."""
