# rnaseq branch: rules come with its issue.
