"""The composite GitHub Action's steps (``action/action.yml``), as small entry points:

    python -m tessera_engine.action.consumer   consumer mode: declarations, can-i-deploy, proposals
    python -m tessera_engine.action.producer   producer mode: changed specs vs published versions

Each reads its inputs from ``INPUT_*`` environment variables (set by the action's ``env:``),
writes workflow annotations on stdout, a Markdown job summary to ``$GITHUB_STEP_SUMMARY``, the
step outputs to ``$GITHUB_OUTPUT`` and a JSON report, and exits 1 only when ``fail-on`` asks.
"""
