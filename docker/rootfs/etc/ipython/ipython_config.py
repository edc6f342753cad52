# IPython and every Jupyter kernel of the image (IPython reads /etc/ipython for all users).
# dlkit.keras_note: when Keras cannot download a file (weights="imagenet" offline), the error
# carries one more line naming the image's asset profile and the Keras weights it bakes in.
c.InteractiveShellApp.extensions = ["dlkit.keras_note"]  # noqa: F821 (IPython's config object)
