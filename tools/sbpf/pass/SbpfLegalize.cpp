// SbpfLegalize: an LLVM module pass that rewrites IR from rustc's bpfel target into a form that
// upstream LLVM's BPF backend lowers to code valid for Solana's SBPF v0 VM.
//
// Upstream BPF and SBPF differ in ways the backend reports as errors (or silently mis-lowers).
// Each rewrite below closes one such gap; anything we cannot lower is reported as a hard error
// naming the function, so a program never builds with a hole in it.
//
//   gap                                   rewrite
//   ------------------------------------  ------------------------------------------------------
//   sret parameters                       attribute dropped (the pointer stays in r1)
//   > 5 argument registers                args past the 4th register packed in a caller stack
//                                         buffer passed in r5 (direct and indirect calls alike)
//   i128 mul/div/rem, variable shifts     calls to pointer-ABI helpers in the sbpf runtime
//   {u,s}mul.with.overflow i64/i128       runtime helpers (u64/u128 checked_mul)
//   funnel shifts on i128 (rotates)       plain shifts, then the shift rewrite above
//   signed div/rem (no sdiv before v4)    sign-magnitude expansion onto udiv/urem
//   float arithmetic/compare/convert      explicit calls to compiler_builtins' soft-float
//                                         routines (the backend refuses implicit libcalls)
//   llvm.memcpy/memmove/memset (large     calls to helpers backed by sol_mem* syscalls
//     or variable length)
//   memcmp/bcmp of a constant length      inline loads and compares (one branch per 8 bytes);
//     up to 32 bytes                      longer or variable ones call sol_memcmp_
//   llvm.trap                             call to the `abort` syscall
//
// Built as a pass plugin: opt -load-pass-plugin=libSbpfLegalize.so -passes=sbpf-legalize

#include "llvm/ADT/SmallVector.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/InstIterator.h"
#include "llvm/IR/Instructions.h"
#include "llvm/IR/IntrinsicInst.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/PassManager.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Plugins/PassPlugin.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

namespace {

// SBPF passes arguments in r1..r5.
constexpr unsigned kArgRegs = 5;
// A fixed-length copy stays with the backend's inline expansion (one 8-byte load/store pair per
// unit: sbpf-ld runs llc with +allows-misaligned-mem-access, since SBPF has no alignment rule, so
// even an align-1 copy moves 8 bytes at a time) only while that is cheaper than a sol_mem* syscall
// (about 10 CU plus the call); everything else, and every variable length, goes to the
// syscall-backed helpers.
constexpr uint64_t kInlineMemUnits = 8;
constexpr uint64_t kMemUnit = 8;
// memcmp/bcmp of a constant length up to this many bytes are compared inline: Anchor compares an
// 8-byte discriminator per instruction while dispatching and 32-byte keys in every constraint.
constexpr uint64_t kInlineCmpBytes = 32;

class Legalizer {
public:
  explicit Legalizer(Module &M)
      : M(M), C(M.getContext()), DL(M.getDataLayout()), I1(Type::getInt1Ty(C)),
        I8(Type::getInt8Ty(C)), I32(Type::getInt32Ty(C)), I64(Type::getInt64Ty(C)),
        I128(Type::getInt128Ty(C)), Ptr(PointerType::get(C, 0)), Void(Type::getVoidTy(C)) {}

  bool run() {
    bool Changed = stripSret();
    for (Function &F : M)
      if (!F.isDeclaration())
        Changed |= lowerFunction(F);
    Changed |= packWideSignatures();
    return Changed;
  }

  unsigned errors() const { return Errors; }

private:
  Module &M;
  LLVMContext &C;
  const DataLayout &DL;
  Type *I1, *I8, *I32, *I64, *I128;
  PointerType *Ptr;
  Type *Void;
  unsigned Errors = 0;

  void error(const Function &F, const Twine &What) {
    errs() << "sbpf-legalize: error: in " << F.getName() << ": " << What << "\n";
    ++Errors;
  }

  FunctionCallee helper(StringRef Name, Type *Ret, ArrayRef<Type *> Params) {
    return M.getOrInsertFunction(Name, FunctionType::get(Ret, Params, false));
  }

  // ---- sret --------------------------------------------------------------------------------
  bool stripSret() {
    bool Changed = false;
    for (Function &F : M) {
      for (unsigned I = 0; I < F.arg_size(); ++I)
        if (F.hasParamAttribute(I, Attribute::StructRet)) {
          F.removeParamAttr(I, Attribute::StructRet);
          Changed = true;
        }
      for (Instruction &Inst : instructions(F))
        if (auto *CB = dyn_cast<CallBase>(&Inst))
          for (unsigned I = 0; I < CB->arg_size(); ++I)
            if (CB->paramHasAttr(I, Attribute::StructRet)) {
              CB->removeParamAttr(I, Attribute::StructRet);
              Changed = true;
            }
    }
    return Changed;
  }

  // ---- per-instruction rewrites ------------------------------------------------------------
  bool lowerFunction(Function &F) {
    SmallVector<Instruction *, 32> Work;
    for (Instruction &I : instructions(F))
      Work.push_back(&I);
    bool Changed = false;
    // Rewrites may create instructions that need a rewrite themselves (a funnel shift becomes
    // variable shifts); those are pushed back onto the worklist.
    while (!Work.empty()) {
      Instruction *I = Work.pop_back_val();
      SmallVector<Instruction *, 8> New;
      if (lowerOne(F, I, New)) {
        Changed = true;
        Work.append(New.begin(), New.end());
      }
    }
    return Changed;
  }

  // Returns true when I was replaced (and erased); new instructions needing a look go to New.
  bool lowerOne(Function &F, Instruction *I, SmallVectorImpl<Instruction *> &New) {
    if (auto *BO = dyn_cast<BinaryOperator>(I))
      return lowerBinary(F, BO);
    if (auto *Cmp = dyn_cast<FCmpInst>(I))
      return lowerFCmp(F, Cmp);
    if (isa<FPToUIInst>(I) || isa<FPToSIInst>(I) || isa<UIToFPInst>(I) || isa<SIToFPInst>(I) ||
        isa<FPExtInst>(I) || isa<FPTruncInst>(I))
      return lowerFloatCast(F, cast<CastInst>(I));
    if (auto *II = dyn_cast<IntrinsicInst>(I))
      return lowerIntrinsic(F, II, New);
    if (auto *CB = dyn_cast<CallBase>(I)) {
      if (isa<InvokeInst>(CB) || isa<CallBrInst>(CB))
        error(F, "invoke/callbr is not supported (build with panic=abort)");
      else if (auto *CI = dyn_cast<CallInst>(CB))
        return lowerMemcmp(F, CI);
    }
    return false;
  }

  // ---- memcmp / bcmp of a short constant length ---------------------------------------------
  static bool isMemcmp(const Function *Fn) {
    return Fn && (Fn->getName() == "memcmp" || Fn->getName() == "bcmp") && Fn->arg_size() == 3 &&
           Fn->getReturnType()->isIntegerTy();
  }

  // Only ==/!= 0 is asked of the result: no need to order the first differing bytes.
  static bool onlyZeroTests(const CallInst *CI) {
    for (const User *U : CI->users()) {
      auto *Cmp = dyn_cast<ICmpInst>(U);
      if (!Cmp || !Cmp->isEquality() || !match0(Cmp->getOperand(0) == CI ? Cmp->getOperand(1) : Cmp->getOperand(0)))
        return false;
    }
    return true;
  }
  static bool match0(const Value *V) {
    auto *K = dyn_cast<ConstantInt>(V);
    return K && K->isZero();
  }

  // memcmp(a, b, n) for a constant n <= kInlineCmpBytes: one block per chunk of at most 8 bytes
  // (the last one may overlap the previous: bytes already found equal cannot change the answer),
  // leaving at the first chunk that differs. memcmp orders that chunk as big-endian unsigned
  // numbers (a bswap) and returns -1 or 1; bcmp, or a memcmp only tested against 0, returns 1.
  bool lowerMemcmp(Function &F, CallInst *CI) {
    Function *Callee = CI->getCalledFunction();
    if (!isMemcmp(Callee))
      return false;
    if (!Callee->isDeclaration() && !Callee->hasFnAttribute(Attribute::NoInline))
      // Keep the syscall wrapper a call, so lengths that become constant when O2 inlines a
      // caller are still found (and expanded) by the pass's run after O2.
      Callee->addFnAttr(Attribute::NoInline);
    auto *Len = dyn_cast<ConstantInt>(CI->getArgOperand(2));
    if (!Len || Len->getZExtValue() > kInlineCmpBytes || &F == Callee)
      return false;
    uint64_t N = Len->getZExtValue();
    auto *RetTy = cast<IntegerType>(CI->getType());
    if (N == 0) {
      CI->replaceAllUsesWith(ConstantInt::get(RetTy, 0));
      CI->eraseFromParent();
      return true;
    }
    bool Ordered = Callee->getName() == "memcmp" && !onlyZeroTests(CI);
    // (offset, size) of each chunk.
    SmallVector<std::pair<uint64_t, uint64_t>, 8> Chunks;
    if (N >= 8) {
      for (uint64_t Off = 0; Off + 8 <= N; Off += 8)
        Chunks.push_back({Off, 8});
      if (N % 8)
        Chunks.push_back({N - 8, 8});
    } else if (N == 1 || N == 2 || N == 4) {
      Chunks.push_back({0, N});
    } else {
      uint64_t W = N > 4 ? 4 : 2;
      Chunks.push_back({0, W});
      Chunks.push_back({N - W, W});
    }
    Value *A = CI->getArgOperand(0), *Bp = CI->getArgOperand(1);
    BasicBlock *Pre = CI->getParent();
    BasicBlock *Done = Pre->splitBasicBlock(CI, "memcmp.done");
    Pre->getTerminator()->eraseFromParent();
    IRBuilder<> DB(Done, Done->begin());
    PHINode *Phi = DB.CreatePHI(RetTy, 2 * Chunks.size(), "memcmp.res");
    BasicBlock *Differ = nullptr; // shared by the unordered form
    if (!Ordered) {
      Differ = BasicBlock::Create(C, "memcmp.differ", &F, Done);
      BranchInst::Create(Done, Differ);
      Phi->addIncoming(ConstantInt::get(RetTy, 1), Differ);
    }
    BasicBlock *Cur = Pre;
    for (size_t K = 0; K < Chunks.size(); ++K) {
      auto [Off, Size] = Chunks[K];
      IRBuilder<> B(Cur);
      Type *T = IntegerType::get(C, Size * 8);
      Value *LA = B.CreateAlignedLoad(T, B.CreateConstInBoundsGEP1_64(I8, A, Off), Align(1));
      Value *LB = B.CreateAlignedLoad(T, B.CreateConstInBoundsGEP1_64(I8, Bp, Off), Align(1));
      Value *Ne = B.CreateICmpNE(LA, LB);
      BasicBlock *Next = K + 1 < Chunks.size() ? BasicBlock::Create(C, "memcmp.chunk", &F, Done) : Done;
      if (Next == Done)
        Phi->addIncoming(ConstantInt::get(RetTy, 0), Cur);
      BasicBlock *Target = Differ;
      if (Ordered) {
        Target = BasicBlock::Create(C, "memcmp.order", &F, Done);
        IRBuilder<> OB(Target);
        Value *OA = LA, *OBv = LB;
        if (Size > 1) {
          Function *Bswap = Intrinsic::getOrInsertDeclaration(&M, Intrinsic::bswap, {T});
          OA = OB.CreateCall(Bswap, {LA});
          OBv = OB.CreateCall(Bswap, {LB});
        }
        Value *R = OB.CreateSelect(OB.CreateICmpULT(OA, OBv), ConstantInt::getSigned(RetTy, -1),
                                   ConstantInt::get(RetTy, 1));
        OB.CreateBr(Done);
        Phi->addIncoming(R, Target);
      }
      B.CreateCondBr(Ne, Target, Next);
      Cur = Next;
    }
    Phi->takeName(CI);
    CI->replaceAllUsesWith(Phi);
    CI->eraseFromParent();
    return true;
  }

  // Spill a value into a fresh entry-block slot, for the pointer-ABI helpers.
  Value *spill(IRBuilder<> &B, Function &F, Value *V) {
    IRBuilder<> EB(&F.getEntryBlock(), F.getEntryBlock().getFirstInsertionPt());
    AllocaInst *Slot = EB.CreateAlloca(V->getType());
    Slot->setAlignment(Align(8));
    B.CreateAlignedStore(V, Slot, Align(8));
    return Slot;
  }

  Value *slot(Function &F, Type *T) {
    IRBuilder<> EB(&F.getEntryBlock(), F.getEntryBlock().getFirstInsertionPt());
    AllocaInst *Slot = EB.CreateAlloca(T);
    Slot->setAlignment(Align(8));
    return Slot;
  }

  // r = helper(&a, &b) for i128 values.
  Value *call128(IRBuilder<> &B, Function &F, StringRef Name, Value *A, Value *Bv) {
    Value *PA = spill(B, F, A);
    Value *PB = spill(B, F, Bv);
    Value *PR = slot(F, I128);
    B.CreateCall(helper(Name, Void, {Ptr, Ptr, Ptr}), {PA, PB, PR});
    return B.CreateAlignedLoad(I128, PR, Align(8));
  }

  bool lowerBinary(Function &F, BinaryOperator *BO) {
    Type *T = BO->getType();
    if (T->isFloatingPointTy())
      return lowerFloatBinary(F, BO);
    auto *IT = dyn_cast<IntegerType>(T);
    if (!IT) {
      if (T->isVectorTy())
        error(F, "vector arithmetic is not supported");
      return false;
    }
    unsigned Bits = IT->getBitWidth();
    auto Op = BO->getOpcode();
    IRBuilder<> B(BO);
    Value *A = BO->getOperand(0), *Bv = BO->getOperand(1);
    Value *R = nullptr;
    if (Bits > 128 && Op == Instruction::Mul && Bits % 64 == 0) {
      // core's u128 formatting multiplies in 256 bits (division by a constant, via mulhi).
      Value *PA = spill(B, F, A);
      Value *PB = spill(B, F, Bv);
      Value *PR = slot(F, IT);
      B.CreateCall(helper("__sbpf_mul_wide", Void, {Ptr, Ptr, Ptr, I64}),
                   {PA, PB, PR, ConstantInt::get(I64, Bits / 64)});
      R = B.CreateAlignedLoad(IT, PR, Align(8));
    } else if (Bits > 128 && (Op == Instruction::Mul || Op == Instruction::UDiv || Op == Instruction::SDiv ||
                              Op == Instruction::URem || Op == Instruction::SRem)) {
      error(F, "integer arithmetic wider than 128 bits is not supported");
      return false;
    } else if (Bits == 128) {
      switch (Op) {
      case Instruction::Mul: R = call128(B, F, "__sbpf_mul128", A, Bv); break;
      case Instruction::UDiv: R = call128(B, F, "__sbpf_udiv128", A, Bv); break;
      case Instruction::URem: R = call128(B, F, "__sbpf_urem128", A, Bv); break;
      case Instruction::SDiv: R = call128(B, F, "__sbpf_sdiv128", A, Bv); break;
      case Instruction::SRem: R = call128(B, F, "__sbpf_srem128", A, Bv); break;
      case Instruction::Shl:
      case Instruction::LShr:
      case Instruction::AShr: {
        if (isa<ConstantInt>(Bv))
          return false; // constant shifts are expanded inline by the backend
        StringRef Name = Op == Instruction::Shl    ? "__sbpf_shl128"
                         : Op == Instruction::LShr ? "__sbpf_lshr128"
                                                   : "__sbpf_ashr128";
        Value *PA = spill(B, F, A);
        Value *PR = slot(F, I128);
        Value *Amt = B.CreateTrunc(Bv, I64);
        B.CreateCall(helper(Name, Void, {Ptr, I64, Ptr}), {PA, Amt, PR});
        R = B.CreateAlignedLoad(I128, PR, Align(8));
        break;
      }
      default: return false;
      }
    } else if (Op == Instruction::SDiv || Op == Instruction::SRem) {
      // SBPF v0 has no signed division: divide magnitudes, then fix the sign. i8/i16 widen first.
      Type *W = Bits < 32 ? I32 : IT;
      Value *WA = B.CreateSExt(A, W), *WB = B.CreateSExt(Bv, W);
      Value *Zero = ConstantInt::get(W, 0);
      Value *NA = B.CreateICmpSLT(WA, Zero), *NB = B.CreateICmpSLT(WB, Zero);
      Value *UA = B.CreateSelect(NA, B.CreateSub(Zero, WA), WA);
      Value *UB = B.CreateSelect(NB, B.CreateSub(Zero, WB), WB);
      Value *Q;
      if (Op == Instruction::SDiv) {
        Value *UQ = B.CreateUDiv(UA, UB);
        Q = B.CreateSelect(B.CreateXor(NA, NB), B.CreateSub(Zero, UQ), UQ);
      } else {
        Value *UR = B.CreateURem(UA, UB);
        Q = B.CreateSelect(NA, B.CreateSub(Zero, UR), UR); // remainder takes the dividend's sign
      }
      R = B.CreateTrunc(Q, IT);
    } else {
      return false;
    }
    R->takeName(BO);
    BO->replaceAllUsesWith(R);
    BO->eraseFromParent();
    return true;
  }

  // ---- soft float --------------------------------------------------------------------------
  static const char *fsuffix(Type *T) { return T->isFloatTy() ? "sf" : "df"; }

  bool floatTypeOk(Function &F, Type *T) {
    if (T->isFloatTy() || T->isDoubleTy())
      return true;
    error(F, "only f32/f64 floating point is supported");
    return false;
  }

  bool lowerFloatBinary(Function &F, BinaryOperator *BO) {
    Type *T = BO->getType();
    if (!floatTypeOk(F, T))
      return false;
    const char *Op;
    switch (BO->getOpcode()) {
    case Instruction::FAdd: Op = "add"; break;
    case Instruction::FSub: Op = "sub"; break;
    case Instruction::FMul: Op = "mul"; break;
    case Instruction::FDiv: Op = "div"; break;
    default:
      error(F, Twine("unsupported float operation ") + BO->getOpcodeName());
      return false;
    }
    IRBuilder<> B(BO);
    std::string Name = std::string("__") + Op + fsuffix(T) + "3";
    Value *R = B.CreateCall(helper(Name, T, {T, T}), {BO->getOperand(0), BO->getOperand(1)});
    R->takeName(BO);
    BO->replaceAllUsesWith(R);
    BO->eraseFromParent();
    return true;
  }

  // compiler_builtins' comparison routines return an int whose sign encodes the order
  // (libgcc convention); unordered operands are checked separately with __unord*2.
  Value *fcmpOrdered(IRBuilder<> &B, CmpInst::Predicate P, Value *A, Value *Bv) {
    Type *T = A->getType();
    std::string S = fsuffix(T);
    auto Call = [&](const char *Base) {
      return B.CreateCall(helper(std::string("__") + Base + S + "2", I32, {T, T}), {A, Bv});
    };
    Value *Zero = ConstantInt::get(I32, 0);
    switch (P) {
    case CmpInst::FCMP_OEQ: return B.CreateICmpEQ(Call("eq"), Zero);
    case CmpInst::FCMP_OLT: return B.CreateICmpSLT(Call("lt"), Zero);
    case CmpInst::FCMP_OLE: return B.CreateICmpSLE(Call("le"), Zero);
    case CmpInst::FCMP_OGT: return B.CreateICmpSGT(Call("gt"), Zero);
    case CmpInst::FCMP_OGE: return B.CreateICmpSGE(Call("ge"), Zero);
    default: llvm_unreachable("ordered predicate expected");
    }
  }

  Value *fcmpUnordered(IRBuilder<> &B, Value *A, Value *Bv) {
    Type *T = A->getType();
    std::string Name = std::string("__unord") + fsuffix(T) + "2";
    return B.CreateICmpNE(B.CreateCall(helper(Name, I32, {T, T}), {A, Bv}),
                          ConstantInt::get(I32, 0));
  }

  bool lowerFCmp(Function &F, FCmpInst *Cmp) {
    Type *T = Cmp->getOperand(0)->getType();
    if (!T->isFloatingPointTy() || !floatTypeOk(F, T))
      return false;
    IRBuilder<> B(Cmp);
    Value *A = Cmp->getOperand(0), *Bv = Cmp->getOperand(1);
    Value *R;
    switch (Cmp->getPredicate()) {
    case CmpInst::FCMP_FALSE: R = ConstantInt::getFalse(C); break;
    case CmpInst::FCMP_TRUE: R = ConstantInt::getTrue(C); break;
    case CmpInst::FCMP_OEQ:
    case CmpInst::FCMP_OLT:
    case CmpInst::FCMP_OLE:
    case CmpInst::FCMP_OGT:
    case CmpInst::FCMP_OGE: R = fcmpOrdered(B, Cmp->getPredicate(), A, Bv); break;
    case CmpInst::FCMP_UNO: R = fcmpUnordered(B, A, Bv); break;
    case CmpInst::FCMP_ORD: R = B.CreateNot(fcmpUnordered(B, A, Bv)); break;
    // u-predicates are the negation of the opposite ordered predicate.
    case CmpInst::FCMP_UNE: R = B.CreateNot(fcmpOrdered(B, CmpInst::FCMP_OEQ, A, Bv)); break;
    case CmpInst::FCMP_ULT: R = B.CreateNot(fcmpOrdered(B, CmpInst::FCMP_OGE, A, Bv)); break;
    case CmpInst::FCMP_ULE: R = B.CreateNot(fcmpOrdered(B, CmpInst::FCMP_OGT, A, Bv)); break;
    case CmpInst::FCMP_UGT: R = B.CreateNot(fcmpOrdered(B, CmpInst::FCMP_OLE, A, Bv)); break;
    case CmpInst::FCMP_UGE: R = B.CreateNot(fcmpOrdered(B, CmpInst::FCMP_OLT, A, Bv)); break;
    case CmpInst::FCMP_ONE:
      R = B.CreateAnd(B.CreateNot(fcmpUnordered(B, A, Bv)),
                      B.CreateNot(fcmpOrdered(B, CmpInst::FCMP_OEQ, A, Bv)));
      break;
    case CmpInst::FCMP_UEQ:
      R = B.CreateOr(fcmpUnordered(B, A, Bv), fcmpOrdered(B, CmpInst::FCMP_OEQ, A, Bv));
      break;
    default: error(F, "unknown float predicate"); return false;
    }
    R->takeName(Cmp);
    Cmp->replaceAllUsesWith(R);
    Cmp->eraseFromParent();
    return true;
  }

  bool lowerFloatCast(Function &F, CastInst *CI) {
    Type *Src = CI->getSrcTy(), *Dst = CI->getDestTy();
    if (Src->isVectorTy() || Dst->isVectorTy()) {
      error(F, "vector float casts are not supported");
      return false;
    }
    auto IntSuffix = [&](Type *T) -> const char * {
      unsigned W = cast<IntegerType>(T)->getBitWidth();
      return W <= 32 ? "si" : W <= 64 ? "di" : nullptr;
    };
    IRBuilder<> B(CI);
    Value *V = CI->getOperand(0);
    Value *R = nullptr;
    std::string Name;
    switch (CI->getOpcode()) {
    case Instruction::FPExt:
    case Instruction::FPTrunc: {
      if (!floatTypeOk(F, Src) || !floatTypeOk(F, Dst))
        return false;
      Name = CI->getOpcode() == Instruction::FPExt ? "__extendsfdf2" : "__truncdfsf2";
      R = B.CreateCall(helper(Name, Dst, {Src}), {V});
      break;
    }
    case Instruction::UIToFP:
    case Instruction::SIToFP: {
      if (!floatTypeOk(F, Dst))
        return false;
      const char *IS = IntSuffix(Src);
      if (!IS) {
        error(F, "int-to-float from wider than 64 bits is not supported");
        return false;
      }
      bool Signed = CI->getOpcode() == Instruction::SIToFP;
      unsigned W = cast<IntegerType>(Src)->getBitWidth();
      Type *Wide = W <= 32 ? I32 : I64;
      Value *X = Signed ? B.CreateSExt(V, Wide) : B.CreateZExt(V, Wide);
      Name = std::string("__float") + (Signed ? "" : "un") + IS + fsuffix(Dst);
      R = B.CreateCall(helper(Name, Dst, {Wide}), {X});
      break;
    }
    case Instruction::FPToUI:
    case Instruction::FPToSI: {
      if (!floatTypeOk(F, Src))
        return false;
      const char *IS = IntSuffix(Dst);
      if (!IS) {
        error(F, "float-to-int wider than 64 bits is not supported");
        return false;
      }
      bool Signed = CI->getOpcode() == Instruction::FPToSI;
      unsigned W = cast<IntegerType>(Dst)->getBitWidth();
      Type *Wide = W <= 32 ? I32 : I64;
      Name = std::string("__fix") + (Signed ? "" : "uns") + fsuffix(Src) + IS;
      Value *X = B.CreateCall(helper(Name, Wide, {Src}), {V});
      R = B.CreateTrunc(X, Dst);
      break;
    }
    default: return false;
    }
    R->takeName(CI);
    CI->replaceAllUsesWith(R);
    CI->eraseFromParent();
    return true;
  }

  // Saturating float->int (Rust's `as`): NaN -> 0, clamp to the integer range, else convert.
  Value *fptoiSat(IRBuilder<> &B, Value *V, IntegerType *Dst, bool Signed,
                  SmallVectorImpl<Instruction *> &New) {
    Type *T = V->getType();
    unsigned W = Dst->getBitWidth();
    APInt Min = Signed ? APInt::getSignedMinValue(W) : APInt::getMinValue(W);
    APInt Max = Signed ? APInt::getSignedMaxValue(W) : APInt::getMaxValue(W);
    // Bounds as floats: Min is exact (a power of two or 0); Max+1 is exact too (2^k).
    APFloat FMin(T->getFltSemantics()), FMaxP1(T->getFltSemantics());
    FMin.convertFromAPInt(Min, Signed, APFloat::rmTowardZero);
    APInt MaxP1 = Signed ? APInt::getOneBitSet(W + 1, W - 1) : APInt::getOneBitSet(W + 1, W);
    FMaxP1.convertFromAPInt(MaxP1, false, APFloat::rmTowardZero);
    Value *IsNan = B.CreateFCmpUNO(V, V);
    Value *Low = B.CreateFCmpOLT(V, ConstantFP::get(T, FMin));
    Value *High = B.CreateFCmpOGE(V, ConstantFP::get(T, FMaxP1));
    // Convert a value known to be in range, so the raw conversion is always defined.
    Value *Safe = B.CreateSelect(B.CreateOr(B.CreateOr(IsNan, Low), High), ConstantFP::get(T, 0.0), V);
    Value *Conv = Signed ? B.CreateFPToSI(Safe, Dst) : B.CreateFPToUI(Safe, Dst);
    Value *R = B.CreateSelect(Low, ConstantInt::get(Dst, Min), Conv);
    R = B.CreateSelect(High, ConstantInt::get(Dst, Max), R);
    R = B.CreateSelect(IsNan, ConstantInt::get(Dst, 0), R);
    for (Value *V2 : {IsNan, Low, High, Conv})
      if (auto *I = dyn_cast<Instruction>(V2))
        New.push_back(I);
    return R;
  }

  bool lowerIntrinsic(Function &F, IntrinsicInst *II, SmallVectorImpl<Instruction *> &New) {
    IRBuilder<> B(II);
    Value *R = nullptr;
    switch (II->getIntrinsicID()) {
    case Intrinsic::trap:
    case Intrinsic::ubsantrap: {
      // Solana's `abort` syscall ends the program with an error, like a trap should.
      FunctionCallee Abort = helper("abort", Void, {});
      if (auto *Fn = dyn_cast<Function>(Abort.getCallee()))
        Fn->setDoesNotReturn();
      B.CreateCall(Abort);
      II->eraseFromParent();
      return true;
    }
    case Intrinsic::umul_with_overflow:
    case Intrinsic::smul_with_overflow: {
      Type *T = II->getArgOperand(0)->getType();
      unsigned Bits = T->getIntegerBitWidth();
      bool Signed = II->getIntrinsicID() == Intrinsic::smul_with_overflow;
      if (Bits != 64 && Bits != 128)
        return false; // narrower ones are widened by the backend without libcalls
      std::string Name = std::string("__sbpf_") + (Signed ? "s" : "u") + "mulo" + std::to_string(Bits);
      Value *PA = spill(B, F, II->getArgOperand(0));
      Value *PB = spill(B, F, II->getArgOperand(1));
      Value *PR = slot(F, T);
      Value *Ov = B.CreateCall(helper(Name, I64, {Ptr, Ptr, Ptr}), {PA, PB, PR});
      Value *Prod = B.CreateAlignedLoad(T, PR, Align(8));
      R = B.CreateInsertValue(PoisonValue::get(II->getType()), Prod, 0);
      R = B.CreateInsertValue(R, B.CreateICmpNE(Ov, ConstantInt::get(I64, 0)), 1);
      break;
    }
    case Intrinsic::fshl:
    case Intrinsic::fshr: {
      Type *T = II->getType();
      if (!T->isIntegerTy(128) || isa<ConstantInt>(II->getArgOperand(2)))
        return false;
      // fshl(a, b, s) = s%128 == 0 ? a : (a << s) | (b >> (128 - s)); fshr mirrors it.
      Value *A = II->getArgOperand(0), *Bv = II->getArgOperand(1);
      Value *S = B.CreateAnd(II->getArgOperand(2), ConstantInt::get(T, 127));
      Value *Inv = B.CreateSub(ConstantInt::get(T, 128), S);
      bool Left = II->getIntrinsicID() == Intrinsic::fshl;
      Value *Sh1 = Left ? B.CreateShl(A, S) : B.CreateLShr(Bv, S);
      Value *Sh2 = Left ? B.CreateLShr(Bv, Inv) : B.CreateShl(A, Inv);
      Value *Or = B.CreateOr(Sh1, Sh2);
      R = B.CreateSelect(B.CreateICmpEQ(S, ConstantInt::get(T, 0)), Left ? A : Bv, Or);
      for (Value *V2 : {Sh1, Sh2})
        if (auto *I = dyn_cast<Instruction>(V2))
          New.push_back(I);
      break;
    }
    case Intrinsic::fptoui_sat:
    case Intrinsic::fptosi_sat: {
      auto *Dst = dyn_cast<IntegerType>(II->getType());
      Value *V = II->getArgOperand(0);
      if (!Dst || !floatTypeOk(F, V->getType()))
        return false;
      if (Dst->getBitWidth() > 64) {
        error(F, "saturating float-to-int wider than 64 bits is not supported");
        return false;
      }
      R = fptoiSat(B, V, Dst, II->getIntrinsicID() == Intrinsic::fptosi_sat, New);
      break;
    }
    case Intrinsic::memcpy:
    case Intrinsic::memmove:
    case Intrinsic::memset: {
      auto *Len = dyn_cast<ConstantInt>(II->getArgOperand(2));
      if (Len && Len->getZExtValue() <= kInlineMemUnits * kMemUnit)
        return false; // short fixed copies: the backend's loads and stores are cheaper
      Value *Dst = II->getArgOperand(0);
      Value *N = B.CreateZExtOrTrunc(II->getArgOperand(2), I64);
      if (II->getIntrinsicID() == Intrinsic::memset) {
        Value *Byte = B.CreateZExt(II->getArgOperand(1), I64);
        B.CreateCall(helper("__sbpf_memset", Ptr, {Ptr, I64, I64}), {Dst, Byte, N});
      } else {
        const char *Name = II->getIntrinsicID() == Intrinsic::memcpy ? "__sbpf_memcpy" : "__sbpf_memmove";
        B.CreateCall(helper(Name, Ptr, {Ptr, Ptr, I64}), {Dst, II->getArgOperand(1), N});
      }
      II->eraseFromParent();
      return true;
    }
    case Intrinsic::sqrt:
    case Intrinsic::pow:
    case Intrinsic::powi:
    case Intrinsic::fma:
    case Intrinsic::fmuladd:
    case Intrinsic::minnum:
    case Intrinsic::maxnum:
    case Intrinsic::floor:
    case Intrinsic::ceil:
    case Intrinsic::round:
    case Intrinsic::trunc:
    case Intrinsic::exp:
    case Intrinsic::log:
      error(F, Twine("float intrinsic ") + II->getCalledFunction()->getName() + " is not supported");
      return false;
    default: return false;
    }
    R->takeName(II);
    II->replaceAllUsesWith(R);
    II->eraseFromParent();
    return true;
  }

  // ---- wide signatures ---------------------------------------------------------------------
  unsigned regsOf(Type *T) const {
    if (T->isPointerTy())
      return 1;
    uint64_t Bytes = DL.getTypeAllocSize(T).getFixedValue();
    return Bytes <= 8 ? 1 : unsigned((Bytes + 7) / 8);
  }

  // Number of leading parameters kept in registers, or -1 when the signature fits as is.
  // Kept parameters use at most 4 registers so r5 is free for the pack pointer.
  int keptParams(FunctionType *FT) const {
    unsigned Total = 0;
    for (Type *T : FT->params())
      Total += regsOf(T);
    if (Total <= kArgRegs)
      return -1;
    unsigned Used = 0;
    int K = 0;
    for (Type *T : FT->params()) {
      if (Used + regsOf(T) > kArgRegs - 1)
        break;
      Used += regsOf(T);
      ++K;
    }
    return K;
  }

  uint64_t slotSize(Type *T) const { return alignTo(DL.getTypeAllocSize(T).getFixedValue(), 8); }

  FunctionType *packedType(FunctionType *FT, int K) {
    SmallVector<Type *, 8> Params(FT->param_begin(), FT->param_begin() + K);
    Params.push_back(Ptr);
    return FunctionType::get(FT->getReturnType(), Params, FT->isVarArg());
  }

  AttributeList packedAttrs(const AttributeList &AL, int K) {
    SmallVector<AttributeSet, 8> PA;
    for (int I = 0; I < K; ++I)
      PA.push_back(AL.getParamAttrs(I));
    PA.push_back(AttributeSet());
    // The callee now reads its tail arguments from the caller's buffer: a `memory(none)` (pure)
    // or speculatable claim would let the optimizer drop the stores that fill it.
    AttributeSet Fn = AL.getFnAttrs()
                          .removeAttribute(C, Attribute::Memory)
                          .removeAttribute(C, Attribute::Speculatable);
    return AttributeList::get(C, Fn, AL.getRetAttrs(), PA);
  }

  bool packWideSignatures() {
    bool Changed = false;
    // Definitions first: a new function with the packed signature takes over the body.
    SmallVector<Function *, 16> Wide;
    for (Function &F : M)
      if (!F.isIntrinsic() && keptParams(F.getFunctionType()) >= 0)
        Wide.push_back(&F);
    for (Function *F : Wide) {
      FunctionType *FT = F->getFunctionType();
      if (FT->isVarArg()) {
        error(*F, "variadic functions are not supported");
        continue;
      }
      if (F->isDeclaration()) {
        // An external function (a syscall) cannot change its ABI; calls to it are reported below.
        continue;
      }
      for (unsigned I = 0; I < F->arg_size(); ++I)
        if (F->hasParamAttribute(I, Attribute::ByVal))
          error(*F, "byval parameters are not supported");
      int K = keptParams(FT);
      Function *NF = Function::Create(packedType(FT, K), F->getLinkage(), F->getAddressSpace(), "", &M);
      NF->copyAttributesFrom(F);
      NF->setAttributes(packedAttrs(F->getAttributes(), K));
      NF->setComdat(F->getComdat());
      NF->takeName(F);
      NF->splice(NF->begin(), F);
      IRBuilder<> B(&NF->getEntryBlock(), NF->getEntryBlock().getFirstInsertionPt());
      Argument *Pack = NF->getArg(K);
      Pack->setName("sbpf.pack");
      uint64_t Off = 0;
      for (unsigned I = 0; I < F->arg_size(); ++I) {
        Argument *Old = F->getArg(I);
        if (int(I) < K) {
          NF->getArg(I)->takeName(Old);
          Old->replaceAllUsesWith(NF->getArg(I));
          continue;
        }
        Value *Addr = B.CreateConstInBoundsGEP1_64(I8, Pack, Off);
        Value *V = B.CreateAlignedLoad(Old->getType(), Addr, Align(8), Old->getName());
        Old->replaceAllUsesWith(V);
        Off += slotSize(Old->getType());
      }
      // Remaining uses (direct callees, stored function pointers) now refer to NF; call sites
      // keep their old function type until rewritten below.
      F->replaceAllUsesWith(NF);
      F->eraseFromParent();
      Changed = true;
    }
    // Then every call site with a wide type, direct or through a pointer.
    SmallVector<CallInst *, 32> Calls;
    for (Function &F : M)
      for (Instruction &I : instructions(F))
        if (auto *CI = dyn_cast<CallInst>(&I))
          if (!isa<IntrinsicInst>(CI) && !CI->isInlineAsm() && keptParams(CI->getFunctionType()) >= 0)
            Calls.push_back(CI);
    for (CallInst *CI : Calls) {
      Function *Caller = CI->getFunction();
      if (auto *Callee = dyn_cast<Function>(CI->getCalledOperand()->stripPointerCasts()))
        if (Callee->isDeclaration() && keptParams(Callee->getFunctionType()) >= 0) {
          error(*Caller, "call to external " + Callee->getName() + " needs more than 5 argument registers");
          continue;
        }
      FunctionType *FT = CI->getFunctionType();
      int K = keptParams(FT);
      uint64_t Size = 0;
      for (unsigned I = K; I < CI->arg_size(); ++I)
        Size += slotSize(FT->getParamType(I));
      IRBuilder<> EB(&Caller->getEntryBlock(), Caller->getEntryBlock().getFirstInsertionPt());
      AllocaInst *Buf = EB.CreateAlloca(ArrayType::get(I8, Size));
      Buf->setAlignment(Align(8));
      IRBuilder<> B(CI);
      SmallVector<Value *, 8> Args(CI->arg_begin(), CI->arg_begin() + K);
      uint64_t Off = 0;
      for (unsigned I = K; I < CI->arg_size(); ++I) {
        Value *A = CI->getArgOperand(I);
        B.CreateAlignedStore(A, B.CreateConstInBoundsGEP1_64(I8, Buf, Off), Align(8));
        Off += slotSize(A->getType());
      }
      Args.push_back(Buf);
      CallInst *NC = B.CreateCall(packedType(FT, K), CI->getCalledOperand(), Args);
      NC->setCallingConv(CI->getCallingConv());
      NC->setAttributes(packedAttrs(CI->getAttributes(), K));
      // The callee reads the caller's stack buffer, so this can no longer be a tail call.
      NC->setTailCallKind(CallInst::TCK_None);
      NC->setDebugLoc(CI->getDebugLoc());
      NC->takeName(CI);
      CI->replaceAllUsesWith(NC);
      CI->eraseFromParent();
      Changed = true;
    }
    return Changed;
  }
};

struct SbpfLegalizePass : PassInfoMixin<SbpfLegalizePass> {
  PreservedAnalyses run(Module &M, ModuleAnalysisManager &) {
    Legalizer L(M);
    bool Changed = L.run();
    if (L.errors())
      report_fatal_error("sbpf-legalize: " + Twine(L.errors()) + " construct(s) cannot be lowered to SBPF",
                         false);
    return Changed ? PreservedAnalyses::none() : PreservedAnalyses::all();
  }
  static bool isRequired() { return true; }
};

} // namespace

extern "C" LLVM_ATTRIBUTE_WEAK PassPluginLibraryInfo llvmGetPassPluginInfo() {
  return {LLVM_PLUGIN_API_VERSION, "SbpfLegalize", "1", [](PassBuilder &PB) {
            PB.registerPipelineParsingCallback(
                [](StringRef Name, ModulePassManager &MPM, ArrayRef<PassBuilder::PipelineElement>) {
                  if (Name != "sbpf-legalize")
                    return false;
                  MPM.addPass(SbpfLegalizePass());
                  return true;
                });
          }};
}
