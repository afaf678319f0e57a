# wes branch: rules come with its issue.
