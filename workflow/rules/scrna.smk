# scrna branch: rules come with its issue.
