//===- TokenizeCommand.cpp - brickc tokenize ------------------------------===//
//
// Shows how a graph's tokenizer encodes a text, or what a list of ids
// stands for: one line per token, its id and its vocabulary piece, quoted
// with C escapes so that spaces, newlines and raw bytes stay visible. With
// --ids the line is the comma-separated list --tokens takes, so a prompt
// can be encoded once, edited, and run exactly.
//
//===----------------------------------------------------------------------===//

#include "tools/brickc/Commands.h"

#include "compiler/GraphIO.h"
#include "compiler/tokenizers/GraphTokenizer.h"

#include "brick/tokenizer.hpp"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir::brick;

namespace {

struct TokenizeArgs {
  std::string graph, text, tokens;
  bool textGiven = false, tokensGiven = false, noBos = false, idsOnly = false;
};

int runTokenize(const TokenizeArgs &args) {
  if (args.textGiven == args.tokensGiven)
    return fail(llvm::createStringError(
        "give exactly one of --text and --tokens (--text)"));
  auto graph = openGraph(args.graph);
  if (!graph)
    return fail(graph.takeError());
  auto tokenizer = loadTokenizer(graph->model, graph->baseDir);
  if (!tokenizer)
    return fail(tokenizer.takeError());
  std::vector<int32_t> ids;
  if (!args.textGiven) {
    if (llvm::Error error =
            parseTokensFlag(args.tokens, tokenizer->get(), ids))
      return fail(std::move(error));
  } else if (brick_status_t status = ::brick::encodeText(
                 tokenizer->get(), args.text, !args.noBos, ids)) {
    return fail(llvm::createStringError(
        args.graph + ": cannot encode the text: " +
        brick_status_string(status) + " (--text)"));
  }
  llvm::raw_ostream &out = llvm::outs();
  if (args.idsOnly) {
    llvm::interleave(ids, out, ",");
    out << "\n";
    return 0;
  }
  const ::brick::TokenizerModel &model =
      ::brick::tokenizerModel(tokenizer->get());
  for (int32_t id : ids) {
    out << id << "\t\"";
    llvm::printEscapedString(model.pieces[id].text, out);
    out << "\"\n";
  }
  return 0;
}

} // namespace

void mlir::brick::registerTokenizeCommand(CLI::App &app) {
  auto args = std::make_shared<TokenizeArgs>();
  CLI::App *command = app.add_subcommand(
      "tokenize", "Show how a graph's tokenizer encodes a text (or what ids "
                  "stand for): one line per token, its id and its piece");
  command->add_option("GRAPH", args->graph, "Brick graph with a tokenizer")
      ->required();
  CLI::Option *text =
      command->add_option("--text", args->text, "Text to encode (BOS is "
                                                "added, as for --prompt)");
  CLI::Option *tokens =
      command->add_option("--tokens", args->tokens,
                          "Comma-separated ids to show instead of --text");
  command->add_flag("--no-bos", args->noBos, "Do not add BOS to --text");
  command->add_flag("--ids", args->idsOnly,
                    "Print only the ids, comma-separated, as --tokens takes "
                    "them");
  setAction(command, [args, text, tokens] {
    args->textGiven = text->count() > 0;
    args->tokensGiven = tokens->count() > 0;
    return runTokenize(*args);
  });
}
