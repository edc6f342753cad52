"""What the tests and the benchmarks share: containers of the image, Jupyter clients, test backbones."""
