# A stand-in for an Ambiorix application, for ambigen's compatibility tests.
#
# THIS IS NOT THE AMBIORIX PACKAGE. Ambiorix is not installable on the machines these tests run
# on (no CRAN, not in Debian), so this script rebuilds its WebSocket behaviour on the same
# foundation Ambiorix itself uses, httpuv, following what PROTOCOL.md part A records about the
# reference (Ambiorix 3.0.0 observed on a live server). It is written from that description, not
# from Ambiorix's code. The differences that remain (jsonlite instead of yyjsonr, Debian's older
# httpuv) are listed in compat/README.md.
#
# Usage: Rscript server.R <port> <page.html> <static-dir>
#   <port>        loopback TCP port to listen on (127.0.0.1)
#   <page.html>   served at "/" on every GET, like res$send_file in the documentation's chat app
#   <static-dir>  served under "/static/", like app$static("static", "static")
# Once the port is open the script prints "listening 127.0.0.1:<port>" on stdout, so that a test
# can wait for it instead of sleeping.

suppressPackageStartupMessages({
  library(httpuv)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 3) {
  stop("usage: Rscript server.R <port> <page.html> <static-dir>")
}
port <- as.integer(args[[1]])
page_path <- normalizePath(args[[2]], mustWork = TRUE)
static_dir <- normalizePath(args[[3]], mustWork = TRUE)

# ---- The named-message layer -------------------------------------------------------------------

# Receivers in registration order. Lookup walks the list and stops at the first match, so a second
# registration for a name never runs: the reference behaves the same way.
receivers <- list()

receive <- function(name, handler) {
  receivers[[length(receivers) + 1L]] <<- list(name = name, handler = handler)
  invisible(NULL)
}

# Every socket that ever opened, in order. Nothing is ever removed, as in the reference: a closed
# socket stays in the list and sending to it does nothing (httpuv drops its handle on close).
clients <- list()

get_websocket_clients <- function() clients

# The wire form the reference writes: compact JSON, keys name, message, isAmbiorix, length-1
# vectors unboxed. digits = NA keeps every significant digit (jsonlite rounds to 4 by default);
# null = "null" writes R's NULL as JSON null rather than jsonlite's default {}.
envelope <- function(name, message) {
  as.character(toJSON(list(name = name, message = message, isAmbiorix = TRUE),
    auto_unbox = TRUE, digits = NA, null = "null", na = "null"
  ))
}

# What a handler's second argument looks like: only send(name, message).
named_socket <- function(ws) {
  list(send = function(name, message) ws$send(envelope(name, message)))
}

# One text frame from one socket. Anything that stops here is an R error; httpuv then closes the
# socket with 1011 "Error executing onWSMessage", which is what the reference does for the same
# inputs (malformed JSON, a binary frame, a top-level scalar, a flagged message without a usable
# name, a failing handler).
on_frame <- function(ws, binary, text) {
  if (binary) {
    stop("binary frames are not part of the protocol")
  }
  # jsonlite's default simplification, like the reference's parser: ["a"] becomes "a" (which is
  # how one-element lists come back as scalars), arrays of objects become data frames.
  parsed <- fromJSON(text)
  # null, {} and [] carry nothing to route: ignored, the socket stays open.
  if (length(parsed) == 0) {
    return(invisible(NULL))
  }
  if (!is.list(parsed)) {
    stop("a message must be a JSON object")
  }
  # $ rather than [[ ]] on purpose: like the reference, a key that uniquely starts with the
  # field's name stands for it ("nameX", "isAmbiorixYes", "messages"), and an ambiguous prefix
  # reads as missing. The reference only checks that the flag is there, not that it is true.
  if (is.null(parsed$isAmbiorix)) {
    return(invisible(NULL))
  }
  name <- parsed$name
  if (is.null(name) || !is.atomic(name) || length(name) != 1 || is.na(name)) {
    stop("a message needs a name")
  }
  message <- parsed$message
  for (r in receivers) {
    # R's == compares after coercion, so a receiver "1" also takes the name 1, as in the reference.
    if (isTRUE(r$name == name)) {
      # A two-argument handler also gets the socket to answer on; others get the message only.
      if (length(formals(r$handler)) >= 2) {
        r$handler(message, named_socket(ws))
      } else {
        r$handler(message)
      }
      return(invisible(NULL))
    }
  }
  invisible(NULL)
}

broadcast <- function(name, message) {
  for (client in get_websocket_clients()) {
    client$send(name, message)
  }
}

# ---- The chat application's handlers -----------------------------------------------------------

receive("greeting", function(msg, ws) {
  ws$send("greeting", "Hello from the server!")
})

# As in the documentation's chat: every line goes to every client in the list, the sender included.
receive("chat", function(msg, ws) {
  broadcast("chat", msg)
})

# The structured chat line, echoed to everyone as R re-serialises it (one-element tags unboxed).
receive("post", function(msg, ws) {
  broadcast("post", msg)
})

# Sends the message straight back, to show how R turns JSON into values and back.
receive("echo", function(msg, ws) {
  ws$send("echo", msg)
})

# ---- The HTTP and WebSocket server -------------------------------------------------------------

app <- list(
  # The page for every plain HTTP request that is not a static file, read afresh each time.
  call = function(req) {
    if (!identical(req$REQUEST_METHOD, "GET") && !identical(req$REQUEST_METHOD, "HEAD")) {
      return(list(status = 405L, headers = list("Content-Type" = "text/plain"), body = "method not allowed"))
    }
    if (!identical(req$PATH_INFO, "/")) {
      return(list(status = 404L, headers = list("Content-Type" = "text/plain"), body = "not found"))
    }
    body <- readChar(page_path, file.size(page_path), useBytes = TRUE)
    list(status = 200L, headers = list("Content-Type" = "text/html; charset=utf-8"), body = body)
  },
  # httpuv serves these itself, off the R thread.
  staticPaths = list("/static" = staticPath(static_dir, indexhtml = FALSE)),
  # Upgrades are accepted on any path.
  onWSOpen = function(ws) {
    wrapped <- list(send = function(name, message) ws$send(envelope(name, message)))
    clients[[length(clients) + 1L]] <<- wrapped
    ws$onMessage(function(binary, message) on_frame(ws, binary, message))
    # The chat's client count; the list is never pruned, so it counts closed sockets too.
    broadcast("update", list(count = length(clients)))
  }
)

server <- startServer("127.0.0.1", port, app)
cat(sprintf("listening 127.0.0.1:%d\n", port))
flush(stdout())

# One thread: every frame of every socket is handled here, one after another.
repeat {
  service(1000)
}
