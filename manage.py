#!/usr/bin/env python
from ztk.cli import main

if __name__ == "__main__":
    main()
