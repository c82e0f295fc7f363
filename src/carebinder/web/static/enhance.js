// carebinder's pages work without JavaScript; this file only makes a few things easier.
// Nothing here is needed for any action.
"use strict";
