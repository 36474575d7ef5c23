"""Where the browser function's Chromium pack sits in its bundle, and the files it holds.

The construct's bundle writes the pack (:mod:`timer_service_cdk.browser_bundle`) and the function
unpacks it at a cold start (:mod:`callbacks.html_monitor.chromium_pack`): the core is the one
package both may import, so the layout they agree on is spelled here, once.
"""

from __future__ import annotations

__all__ = ["BROTLI_FILES", "NODE_FILE", "PACK_DIR"]

PACK_DIR = "chromium_pack"  # in the bundle, beside the packages
NODE_FILE = "node.xz"  # Playwright's Node.js driver binary, xz-compressed
# @sparticuz/chromium's package/bin files, as published (brotli)
BROTLI_FILES = ("chromium.br", "swiftshader.tar.br", "al2023.tar.br", "fonts.tar.br")
