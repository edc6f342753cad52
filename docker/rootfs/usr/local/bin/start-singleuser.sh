#!/bin/bash
# jupyter/docker-stacks' older name of start-singleuser.py, kept for the commands that still use it.
exec start-singleuser.py "$@"
