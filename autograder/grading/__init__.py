"""Grading-time code that decides verdicts out of the student's reach.

Which side of the trust boundary each module runs on:

- ``agent``: the only module here that runs *inside the student's kernel*. It calls what the
  referee asks for and sends back plain data (or handles to objects that stay in the kernel).
- ``wire``: the codec both sides share. What comes from the kernel is decoded without running
  any code (no pickle): arrays, tensors, numbers, strings and containers of them.
- ``remote``, ``referee``: the grading side. The referee runs the tests, holds the hidden tests
  and every oracle, and decides each verdict; it never executes student code.
- ``kernel``: starts the student's kernel sandboxed, per attempt (an unprivileged user where
  grading runs as root, a fresh HOME and IPython folder, no access to tests or results).
"""
