"""templates/, static/ and migrations/ stay at the top of the checkout; a wheel carries them
inside the package (sharing/templates…), where `sharing.asset_dir` finds them once
installed. pyproject.toml cannot list found packages and mapped folders together."""

from setuptools import find_packages, setup

ASSETS = {f"sharing.{name}": name for name in ("templates", "static", "migrations")}

setup(packages=find_packages(include=["sharing", "sharing.*"]) + list(ASSETS),
      package_dir=ASSETS)
