"""Static files shipped with chipsr: igv.js (MIT, ``LICENSE.igv.txt``) for the report page."""
