"""The pages: server-rendered templates and vendored static assets, a room of the API.

Pages hold no rule and no data: they are HTML shells whose small ES modules call the same
/v1 routes as any client, with the user's API key; the server enforces every rule there.
Every asset is served from this package (static/vendor/<lib>-<version>/ with its LICENSE),
so nothing is fetched from the internet at run time.
"""
