"""Training settings: ``<package>/<name>.py`` modules with ``run(settings)``, found by path by ``ltr.run_training``."""
