#!/bin/bash
# jupyter/docker-stacks' older name of start-notebook.py, kept for the commands that still use it.
exec start-notebook.py "$@"
