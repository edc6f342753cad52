#!/bin/bash
# This image's earlier default command: now start-notebook.py (jupyter/docker-stacks' name).
exec start-notebook.py "$@"
