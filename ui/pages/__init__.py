"""One module per page of the app (st.navigation runs each file as the page's script: ``render(ctx)``
through ``shell.run_page``, the error edge)."""
