"""Stand-in for ansible-test's pip bootstrap script (get-pip-<version>.py).

ansible-test makes its sanity virtual environments without pip and bootstraps pip with a
script it downloads from ci-files.testing.ansible.com, which this machine cannot reach; it looks
in ~/.ansible/test/cache/get_pip_<version>.py first. test_collection_quality.py puts this file
there when it is missing. It does what get-pip does, from sources that are reachable: pip from
the interpreter's own ensurepip, then the requested packages (pip==<version>, ...) from PyPI.
Arguments are those of get-pip: pip install options and requirements, plus --no-setuptools and
--no-wheel, which only get-pip knows.
"""

import subprocess
import sys


def main():
    args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
    subprocess.run([sys.executable, "-m", "ensurepip", "--default-pip"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([sys.executable, "-m", "pip", "install", *args], check=True)


if __name__ == "__main__":
    main()
