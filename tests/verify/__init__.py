"""`carebinder.verify`: a real binder, corrupted the ways disks, crashes and people do, in
the manner of git fsck's corrupted-object tests. Each corruption must be found, with the
right kind and ids, and `repair` must touch nothing a row may need.

The modules mirror `src/carebinder/verify/`; `verifykit` holds the binder and the ways to
damage it that they share."""
