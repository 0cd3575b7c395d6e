/**
 * Entry of the <script>-tag bundle (jsclient/ambiorix.js): it defines the
 * global Ambiorix class that pages written for Ambiorix's ambiorix.js expect.
 *
 * @module
 */

import { Ambiorix } from "./ambiorix.js";

(globalThis as { Ambiorix?: typeof Ambiorix }).Ambiorix = Ambiorix;
