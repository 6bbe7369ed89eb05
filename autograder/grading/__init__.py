"""Everything that runs while a submission is graded, split by the trust boundary.

**Inside the student's kernel** (student code can reach it, so nothing here decides a verdict):

- ``agent``: calls what the referee asks for and sends back plain data (or handles to objects
  that stay in the kernel). Its source is sent with the cell that starts it.
- ``kernel_guard``: the notebook's first cell (its source is sent, never imported there): per-cell
  time limits, blocked self-inflicted exits, output caps, IPython hooks removed. A first line for
  the notebook's own robustness; what it reports becomes grading notes, never a verdict.

**Grading side** (never runs student code):

- ``otter_plugin``: the Otter plugin (``PLUGIN_NAME``): keeps only the notebook of a submission,
  loads the tests for the referee, starts each attempt's kernel, grades again after a crash, and
  builds Otter's results from the referee's verdicts.
- ``serve``: one referee session: the cell that starts the agent, and the thread that judges
  questions through it.
- ``referee``, ``remote``: the referee runs the tests, holds the hidden tests and every oracle,
  and decides each verdict; ``remote`` is its connection to the agent and its proxies of kernel
  objects.
- ``wire``: the codec both sides share. What comes from the kernel is decoded here without
  running any code (no pickle): arrays, tensors, numbers, strings and containers of them.
- ``kernel``: starts the student's kernel sandboxed, per attempt (an unprivileged user where
  grading runs as root, a fresh HOME and IPython folder, no access to tests or results).
- ``runner``, ``worker``, ``sandbox``: local grading: ``runner`` grades one submission in a
  ``worker`` process of its own (Otter with the plugin), with a time limit and a capped log,
  inside bubblewrap (``sandbox``) where it is installed.

The whole folder ships in every autograder zip (``autograder/grading/``, beside
``autograder/submission.py``), so Gradescope imports the plugin from ``/autograder/source``.
"""
